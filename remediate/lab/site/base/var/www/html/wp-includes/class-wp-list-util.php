<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-list-util.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-list-util.php';
