<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-walker.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-walker.php';
