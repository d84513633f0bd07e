<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-term.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-term.php';
