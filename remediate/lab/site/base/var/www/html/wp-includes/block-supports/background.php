<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/background.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/background.php';
