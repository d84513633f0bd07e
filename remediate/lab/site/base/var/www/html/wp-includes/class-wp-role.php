<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-role.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-role.php';
