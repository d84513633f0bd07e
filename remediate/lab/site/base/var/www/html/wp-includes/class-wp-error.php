<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-error.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-error.php';
